from training.api import assignments, courses, people, releases

urlpatterns = [
    *courses.urlpatterns,
    *releases.urlpatterns,
    *people.urlpatterns,
    *assignments.urlpatterns,
]
