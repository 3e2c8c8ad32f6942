"""One module per AWS service, each declaring its listers and types (see parity.sources.aws.spec)."""
