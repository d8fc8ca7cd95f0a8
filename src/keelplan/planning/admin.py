from django.contrib import admin

from keelplan.planning import models

for model in (m for m in vars(models).values() if isinstance(m, type) and issubclass(m, models.models.Model)
              and not m._meta.abstract and m.__module__ == models.__name__):
    admin.site.register(model)
