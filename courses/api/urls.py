from courses.api import catalog, playbooks, questions

urlpatterns = [*catalog.urlpatterns, *questions.urlpatterns, *playbooks.urlpatterns]
