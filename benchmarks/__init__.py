"""Benchmarks of the plugin: reusable tools here, per-experiment recipes in ``benchmarks/recipes/``.

* Tools (Python modules of this package), run from the repository root as modules, e.g.
  ``python -m benchmarks.compare --help``: ``compare`` (train several models, one JSON per run, the paper's
  Table 2 layout), ``seeds``, ``paired_test``, ``protocol_table``, ``finish_capped`` (records of those runs),
  ``cost``, ``profile_cost``, ``epoch_time``, ``eval_time``, ``ml20m_time``, ``flop_rate``, ``fast_path``,
  ``memory``, ``bucket_spread``, ``warm_start_heads`` (timings, memory and checks), ``plot_sweeps`` (the
  paper's Figures 5 and 6 from ``run_hyper.py``), ``text_pretrain.run`` (the text pre-training benchmark,
  its method in ``benchmarks/text_pretrain/README.md``). ``report`` and ``common`` are shared by the others.
* Recipes (``benchmarks/recipes/*.sh``): the shell commands of one experiment each, with its dataset, seed,
  interpreter and folders as environment parameters; they call the tools as ``"$PYTHON" -m benchmarks.<tool>``.

The tools import each other as ``benchmarks.<tool>`` and the plugin as ``recbole_fame``, from the checkout that
``python -m`` run in the repository root puts first on the path; run as a file (``python benchmarks/x.py``)
a tool stops with the command to type instead.
"""
