"""The results store of an experiment: one folder, one atomic sub-folder per finished run.

Layout of ``results/<experiment>/``::

    manifest.json                 the experiment as resolved (see below); rewritten atomically
    runs/<run_id>/run.json        one finished run: ids, seed, point, status, error, timing
    runs/<run_id>/summary.parquet         (status "ok" only) the run's tidy summary
    runs/<run_id>/timeseries.parquet      (status "ok" only) the city, one row per step, float32
    runs/<run_id>/neighbourhoods.parquet  (status "ok" only) one row per neighbourhood per month

A run folder is built under ``runs/.tmp-<run_id>-*`` and renamed into place with ``os.replace``,
so after any crash (even SIGKILL) a run is either wholly there or absent; stray ``.tmp-*`` folders
are ignored by readers and removed when the experiment runs again. A run whose ``run.json`` says
``"status": "ok"`` is never run again; a failed run is tried again on the next start.

``run_id`` = first 16 hex digits of sha256 over the JSON of (scenario name, the scenario as
resolved — after ``--set`` overrides, ``years`` and the point's parameter values —, the point's
parameter values, the seed). Same inputs, same id, whichever machine or executor ran it.

Table contract (what :func:`load_results` returns; ``model.analysis`` relies on it)
----------------------------------------------------------------------------------

``load_results(path)`` returns a :class:`Results` with:

``.runs`` — one row per run (ok or failed), sorted by scenario, point, rep:
    ``run_id`` (str), ``scenario`` (str), ``rep`` (int, replication 0..R-1), ``seed`` (int),
    ``point`` (int, index of the parameter point, 0 when nothing is swept), then one column per
    swept parameter named by its dotted path (e.g. ``interventions.0.coverage``, float; NaN where
    the parameter does not apply to that scenario), ``status`` ("ok" | "failed"),
    ``error`` (str, "" when ok), ``seconds`` (float, wall time of the run).

``.summary`` — tidy, one row per ok run per outcome:
    ``run_id``, ``scenario``, ``rep``, ``seed``, ``point``, ``outcome`` (str, a name from
    ``model.metrics.CITY_OUTCOMES``, including ``cost_usd``), ``value`` (float64): exactly
    ``model.results.summarise(...)["per_year"]`` — the annual average for count outcomes
    (homicides, crimes, cost_usd, ...) and the horizon mean for level outcomes (fear, trust,
    homicide_rate, ...). Also ``kind`` ("count" | "level") and ``total`` (``all_years``: the
    run total for counts, the horizon mean for levels).

``.timeseries(scenarios=None, outcomes=None, points=None)`` — read lazily from disk:
    ``run_id``, ``scenario``, ``rep``, ``seed``, ``point``, ``step`` (int), ``year`` (float,
    step / steps_per_year), then the requested outcome columns (float32; all of
    ``CITY_OUTCOMES`` by default).

``.neighbourhoods(scenarios=None, outcomes=None, points=None)`` — read lazily:
    ``run_id``, ``scenario``, ``rep``, ``seed``, ``point``, ``month`` (int), ``neighbourhood``
    (int), the requested outcome columns (float32; all of ``HOOD_OUTCOMES`` by default: monthly
    sums for counts, monthly means for levels), ``residents`` (int).

``.manifest`` — the dict in ``manifest.json``:
    ``experiment`` (name), ``description``, ``baseline`` (scenario name the others are compared
    with), ``scenarios`` (list of {name, file, file_sha256, scenario_hash, overrides}),
    ``replications``, ``base_seed``, ``seeds`` (list: replication r uses seeds[r] in every
    scenario and at every point — paired, common random numbers), ``years``,
    ``parameters`` (list of {name (dotted path), low, high, values, integer, scenarios}),
    ``sampler`` ("none" | "grid" | "lhs" | "sobol" | "morris"), ``sampler_options``
    ({samples, seed, calc_second_order, levels}), ``problem`` (SALib problem dict:
    num_vars, names, bounds — for ``SALib.analyze``), ``points`` (list of {point, <name>: value};
    in sampler order, so ``points`` rows are the SALib sample matrix ``X`` in order),
    ``versions``, ``git_commit``, ``created``.

Keys: a run is identified by (scenario, point, rep); the same (point, rep) in two scenarios used
the same seed, so differences are paired by joining on ``point`` and ``rep`` (or ``seed``).
"""

from __future__ import annotations

__all__: list[str] = []
