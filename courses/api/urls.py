from courses.api import catalog

urlpatterns = [*catalog.urlpatterns]
