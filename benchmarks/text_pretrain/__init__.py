"""The text-enhanced pre-training benchmark: ``python -m benchmarks.text_pretrain.run`` (README.md here)."""
