"""Every Beebole service, one module per entity; importing this package registers them all."""

from keelplan.api.beebole.services import (  # noqa: F401
    companies, custom_fields, groups, people, projects, shared, tasks,
)
