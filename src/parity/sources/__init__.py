"""Sources: the only layer that does I/O. Each subpackage registers its kinds on import (see parity.registry)."""
