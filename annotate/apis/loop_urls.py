"""URLs of the annotation loop: generations, suggestions, accepting predictions, efficiency."""

from annotate.apis import corrections, efficiency, generations

urlpatterns = [*generations.urlpatterns, *corrections.urlpatterns, *efficiency.urlpatterns]
