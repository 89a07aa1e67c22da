"""Data layer: MNIST and Fashion-MNIST from verified IDX files, and the lectures' toy sets.

Where the IDX files come from, in this order:
1. the ``data_dir`` argument;
2. the ``ZOO_DATA_DIR`` environment variable;
3. a download from the public mirrors into the cache (``ZOO_CACHE_DIR``, default
   ``~/.cache/keras-lecture-zoo``), unless ``ZOO_OFFLINE=1``.

Every load checks the SHA-256 of the *decompressed* IDX bytes against the pinned
hashes below; a bad, missing, unreadable or oversized file raises :class:`ChecksumError`
(a missing one :class:`MissingDataError`, which is also a ``FileNotFoundError``) and nothing
is returned. Decompression stops at each file's known size, so a hostile gzip cannot fill memory.
Decompressed, verified copies of ``.gz`` sources are kept in the cache, keyed on the SHA-256 of
the source ``.gz`` itself: a changed source is decompressed and verified again, whatever its size
and modification time; the cached copy is hashed again on every load.

The package: :mod:`zoo.data.idx` (IDX fetch, verify, cache), :mod:`zoo.data.splits` (splits, CIFAR-10
through tensorflow-datasets, tf.data pipelines) and :mod:`zoo.data.toy` (the lectures' toy sets); their
public names are all here.
"""

from keras_lecture_zoo.zoo.data import idx, splits, toy
from keras_lecture_zoo.zoo.data.idx import *  # noqa: F401,F403
from keras_lecture_zoo.zoo.data.splits import *  # noqa: F401,F403
from keras_lecture_zoo.zoo.data.toy import *  # noqa: F401,F403

__all__ = [*idx.__all__, *splits.__all__, *toy.__all__]
