"""Keys at work on stored rows: re-encrypting every value under a new master key, resumably
(rotation). Above the models, because it reads and writes them; the primitives it uses
(the key ring, the encrypted field types) are in privacy.protection, below the models."""
