"""The autograder: grades submitted lab notebooks so that cheating in the notebook cannot raise a mark.

One module per step, in the order a submission meets them:

``submission``  read a submitted notebook as untrusted input; keep only the answer cells (by grade_id)
``template``    the instructor's template (the solution, stripped) and the cells rebuilt from it
``sandbox``     run the rebuilt notebook in a fresh folder and process: no network, memory, output and time caps
``kernel``      what runs inside the sandbox: the cells, one by one, in an IPython shell
``exports``     the grader's cells around each answer, inside the sandbox: prepare its state, export its data
``exchange``    plain data out of the kernel (.npy and JSON, never pickle), read defensively by the grader
``gradebook``   the CSV gradebook, the feedback files and the summary, written atomically by the grader
``run``         grade a folder with parallel workers; ``labkit grade`` calls ``run.main``

What is particular to one lab lives in its package (``labkit/labs/labN/``): ``rules`` (each exercise's
observer and rule, shared with the self-checks) and ``grading`` (fresh inputs, the state each answer
starts from, the grader's reference data).

See grading.md (the instructor edition of the book) for the instructor's workflow.
"""
