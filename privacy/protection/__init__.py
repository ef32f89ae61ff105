"""Protection of stored data: encryption and keys, blind indexes, masking, network
minimisation, staff roles."""
