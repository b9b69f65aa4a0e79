"""One module per process of the schedule; each exposes ``step(model, rng)``.

The order of the schedule is :meth:`model.model.SecurityModel.step`; docs/ODD.md describes
each process and names the function implementing it.
"""
