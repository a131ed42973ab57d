"""Grade a whole class: ``grade batch EXERCISE SUBMISSIONS`` (the instructor's side).

``discover`` finds the students and their files, ``runner`` grades them in forked children
of a warm parent, ``gradebook`` keeps the results in SQLite, ``export`` and ``summary``
write what instructors and students read; ``run.run_batch`` ties them together and works
from Python as it does from the command line.
"""

from .run import BatchReport, print_report, run_batch

__all__ = ["BatchReport", "print_report", "run_batch"]
