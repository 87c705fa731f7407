"""The digit datasets and the classifier that measures them."""

from __future__ import annotations

import torch
from ganloss_toybench.classifier import (
    DigitClassifier,
    held_out_accuracy,
    load_classifier,
    read_digits,
)
from ganloss_toybench.data import HELD_OUT, digit_arrays, load_dataset


def test_splits_are_disjoint_and_cover_the_1797_digits():
    train_images, _ = digit_arrays("train")
    held_images, held_labels = digit_arrays("held-out")
    assert train_images.shape == (1797 - 10 * HELD_OUT, 1, 8, 8)
    assert held_images.shape == (10 * HELD_OUT, 1, 8, 8)
    assert torch.bincount(held_labels).tolist() == [HELD_OUT] * 10
    assert train_images.min() == -1.0 and train_images.max() == 1.0  # 0..16 scaled
    # no held-out image is in the training split (compared pixel for pixel)
    flat_train = {tuple(x.flatten().tolist()) for x in train_images}
    repeated = sum(tuple(x.flatten().tolist()) in flat_train for x in held_images)
    assert repeated <= 2  # load_digits holds a few identical images; they may straddle


def test_digits_have_one_channel_and_ten_modes():
    data = load_dataset("digits")
    images, modes = data.sample_with_modes(500, torch.Generator().manual_seed(0))
    assert images.shape == (500, 1, 8, 8) and data.num_modes == 10
    assert set(modes.tolist()) == set(range(10))


def test_stacked_digits_are_three_independent_digits_1000_modes():
    data = load_dataset("stacked-digits")
    assert data.shape == (3, 8, 8) and data.num_modes == 1000
    images, modes = data.sample_with_modes(26000, torch.Generator().manual_seed(0))
    assert images.shape == (26000, 3, 8, 8)
    counts = torch.bincount(modes, minlength=1000)
    assert len(counts) == 1000 and (counts > 0).all()  # 26 per mode on average: all appear
    # each channel is a training digit whose label is that digit of the mode
    train_images, train_labels = digit_arrays("train")
    for channel, value in enumerate((100, 10, 1)):
        first = images[0, channel]
        (index,) = torch.nonzero((train_images[:, 0] == first).flatten(1).all(dim=1))[:1]
        assert train_labels[index].item() == modes[0].item() // value % 10
    # independent channels: the first digit says nothing about the second
    first, second = modes // 100, modes // 10 % 10
    joint = torch.bincount(first * 10 + second, minlength=100).double() / 26000
    product = (
        torch.outer(
            torch.bincount(first, minlength=10).double(),
            torch.bincount(second, minlength=10).double(),
        ).flatten()
        / 26000**2
    )
    assert (joint - product).abs().max() < 0.004  # sampling noise of one cell: about 0.0018


def test_same_seed_same_images():
    data = load_dataset("stacked-digits")
    a = data.sample(4, torch.Generator().manual_seed(7))
    b = data.sample(4, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_classifier_reads_98_percent_of_held_out_digits(classifier_cache):
    model, accuracy = load_classifier()
    assert accuracy >= 0.98
    assert held_out_accuracy(model) == accuracy  # the cached number is the model's
    assert list(classifier_cache.glob("digits-*.pt"))  # and it was cached
    again, _ = load_classifier()  # from the cache: the same weights
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name


def test_reading_stacked_digits_channel_by_channel():
    model, _ = load_classifier()
    images, labels = digit_arrays("held-out")
    # a stacked image of three held-out digits reads as the three digits, most of the time
    stacked = torch.cat([images[:300], images[30:330], images[60:360]], dim=1)
    expected = labels[:300] * 100 + labels[30:330] * 10 + labels[60:360]
    reading = read_digits(model, stacked)
    assert reading.features.shape == (300, 3 * 128)
    assert (reading.modes == expected).double().mean() >= 0.95
    single = read_digits(model, images[:300, :])
    # the features of a stacked image are its digits' features side by side
    assert torch.equal(reading.features[:, :128], single.features)
    assert torch.all(reading.confidence <= single.confidence)  # the least confident digit


def test_an_unreadable_cache_file_is_trained_again(tmp_path, monkeypatch):
    import ganloss_toybench.classifier as classifier

    trained = []
    monkeypatch.setattr(
        classifier, "train_classifier", lambda: trained.append(1) or DigitClassifier()
    )
    (
        tmp_path / f"digits-{classifier.RECIPE}-torch{torch.__version__.replace('+', '-')}.pt"
    ).write_text("not a weights file")
    classifier.load_classifier(tmp_path)
    assert trained == [1]
    classifier.load_classifier(tmp_path)  # now cached
    assert trained == [1]
