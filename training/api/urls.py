from training.api import assignments, people

urlpatterns = [*people.urlpatterns, *assignments.urlpatterns]
