"""URLs of the annotation loop: generations, suggestions, accepting predictions, undo, efficiency."""

from annotate.apis import corrections, efficiency, generations, undo

urlpatterns = [*generations.urlpatterns, *corrections.urlpatterns, *undo.urlpatterns, *efficiency.urlpatterns]
