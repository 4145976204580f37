"""Lab 5: viva practice across the labs (solutions/lab5_viva_practice.ipynb). No graded exercises: its
notebook draws practice vivas from the other labs' question banks."""

TITLE = "Viva practice"
NOTEBOOK = "lab5_viva_practice.ipynb"
PRACTISED = False
"""Its own bank's questions are about the practice itself; the practice viva draws from the other labs."""

FIGURES: dict[str, str] = {}
"""No training, so no figures to state."""
