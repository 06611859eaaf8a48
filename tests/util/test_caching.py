"""BoundedCache: LRU eviction, write-once entries, statistics, thread safety."""

import threading

import pytest

from brainstate.util import BoundedCache


def test_evicts_least_recently_used():
    cache = BoundedCache(maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert cache.keys() == ["a", "c"]


@pytest.mark.parametrize("maxsize", [0, -1, 1.5, True])
def test_maxsize_must_be_positive_int(maxsize):
    with pytest.raises(ValueError, match="maxsize must be a positive integer"):
        BoundedCache(maxsize)


def test_get_returns_default_on_miss():
    assert BoundedCache().get("x", default=7) == 7


def test_get_can_raise_on_miss_listing_keys():
    cache = BoundedCache()
    cache.set("k1", 1)
    with pytest.raises(ValueError, match="no jaxpr is cached for the key 'zz'. Cached keys:\n  'k1'"):
        cache.get("zz", raise_on_miss=True, error_context="jaxpr")


def test_set_does_not_overwrite():
    cache = BoundedCache()
    cache.set("a", 1)
    with pytest.raises(ValueError, match="key 'a' is already cached.*replace"):
        cache.set("a", 2)


def test_replace_changes_existing_entry():
    cache = BoundedCache()
    cache.set("a", 1)
    cache.replace("a", 2)
    assert cache.get("a") == 2


def test_replace_missing_key_raises():
    with pytest.raises(KeyError, match="key 'a' is not cached.*set"):
        BoundedCache().replace("a", 1)


def test_pop_and_contains_and_len():
    cache = BoundedCache()
    cache.set("a", 1)
    assert ("a" in cache, len(cache), cache.pop("a"), cache.pop("a", "none"), len(cache)) == (True, 1, 1, "none", 0)


def test_stats_count_hits_and_misses_and_clear_resets():
    cache = BoundedCache(maxsize=4)
    cache.set("a", 1)
    cache.get("a")
    cache.get("b")
    assert cache.get_stats() == {"size": 1, "maxsize": 4, "hits": 1, "misses": 1, "hit_rate": 50.0}
    cache.clear()
    assert cache.get_stats() == {"size": 0, "maxsize": 4, "hits": 0, "misses": 0, "hit_rate": 0.0}


def test_concurrent_sets_respect_the_bound():
    cache = BoundedCache(maxsize=8)

    def worker(offset):
        for i in range(200):
            cache.set((offset, i), i)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 8 and cache.maxsize == 8
