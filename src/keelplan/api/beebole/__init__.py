"""The Beebole JSON service dialect: one endpoint, ``POST /api/v2``, whose body names the service."""
