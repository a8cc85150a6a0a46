from courses.api import catalog, playbooks

urlpatterns = [*catalog.urlpatterns, *playbooks.urlpatterns]
