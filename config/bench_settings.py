"""`make bench`'s settings: production's, with the benchmark's root URLconf (config/bench_urls.py: every
real URL plus the baseline views its rows compare against). Production settings carry no bench switch."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "config.bench_urls"
