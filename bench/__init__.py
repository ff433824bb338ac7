"""Benchmarks of Meeting Buddy's speed targets: `python -m bench.run [--quick] [--only NAME,...]`.

Each benchmark runs in a process of its own (bench.worker) so that Qt, QtWebEngine and the
process CPU and memory figures of one never affect another; bench.run collects their figures
with facts about the machine into bench/results/latest.json and prints a table.
"""
