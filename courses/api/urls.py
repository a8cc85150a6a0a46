from courses.api import catalog, releases

urlpatterns = [*catalog.urlpatterns, *releases.urlpatterns]
