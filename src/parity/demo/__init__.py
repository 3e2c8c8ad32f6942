"""The bundled demo: the greenflash example, optionally with live AWS accounts on a local moto server."""
