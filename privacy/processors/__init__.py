"""Who receives personal data from us: the processor registry, disclosures, the record of processing."""
