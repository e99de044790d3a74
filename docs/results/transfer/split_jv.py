"""JapaneseVowels' nine speakers as two corpora: speakers 1-5 (source) and 6-9 (target, 3 training
utterances per speaker: little labelled target data)."""

import numpy as np

from lgrin_edge.data import load_dataset

ds = load_dataset("japanesevowels")
rng = np.random.default_rng(0)


def subset(classes, train_per_class=None):
    keep = np.isin(ds.y, classes)
    if train_per_class is not None:
        for c in classes:
            train = np.flatnonzero((ds.y == c) & ~ds.is_test)
            keep[rng.permutation(train)[train_per_class:]] = False
    y = np.searchsorted(classes, ds.y[keep])
    names = np.array([ds.classes[c] for c in classes])
    return dict(x=ds.x[keep], y=y, lengths=ds.lengths[keep], is_test=ds.is_test[keep], classes=names)


np.savez("jv-speakers-1-5.npz", **subset([0, 1, 2, 3, 4]))
np.savez("jv-speakers-6-9-few.npz", **subset([5, 6, 7, 8], train_per_class=3))
for f in ("jv-speakers-1-5.npz", "jv-speakers-6-9-few.npz"):
    d = np.load(f)
    print(f, len(d["y"]), "sequences,", int((~d["is_test"]).sum()), "for training")
