"""The conformance configs and their outputs dict, shared by the tests (a unique module name)."""

from __future__ import annotations

import torch

N, K, D = 6, 3, 5


def outputs(dtype):
    """A class-conditional outputs dict: class scores, embeddings and labels of both batches."""

    def scores(columns):
        return torch.randn(N, columns, dtype=dtype, requires_grad=True)

    return {
        "cls_real": scores(K),
        "cls_fake": scores(K),
        "twin_fake": scores(K),
        "adc_real": scores(2 * K),
        "adc_fake": scores(2 * K),
        "mh_real": scores(K + 1),
        "mh_fake": scores(K + 1),
        "embed": torch.randn(N, D, dtype=dtype, requires_grad=True),
        "proxy": torch.randn(N, D, dtype=dtype, requires_grad=True),
        # Two of each class, so both contrastive losses have positives and negatives.
        "real_labels": torch.tensor([0, 1, 2, 0, 1, 2]),
        "fake_labels": torch.randint(0, K, (N,)),
    }


EMBEDDINGS = {"embeddings": "embed", "proxies": "proxy", "labels": "real_labels"}
CASES = {
    "AuxiliaryClassifierLoss": {"data_info": {"logits": "cls_real", "labels": "real_labels"}},
    "DiscTwinClassifierLoss": {
        "twin_weight": 0.5,
        "data_info": {
            "logits_real": "cls_real",
            "labels_real": "real_labels",
            "twin_logits_fake": "twin_fake",
            "labels_fake": "fake_labels",
        },
    },
    "GenTwinClassifierLoss": {
        "data_info": {"logits": "cls_fake", "twin_logits": "twin_fake", "labels": "fake_labels"}
    },
    "DiscDiscriminativeClassifierLoss": {
        "data_info": {
            "logits_real": "adc_real",
            "labels_real": "real_labels",
            "logits_fake": "adc_fake",
            "labels_fake": "fake_labels",
        }
    },
    "GenDiscriminativeClassifierLoss": {
        "data_info": {"logits": "adc_fake", "labels": "fake_labels"}
    },
    "ContrastiveConditionalLoss": {"temperature": 0.5, "data_info": EMBEDDINGS},
    "Data2DataCrossEntropyLoss": {"data_info": EMBEDDINGS},
    "MultiHingeLoss": {"data_info": {"logits": "mh_real", "labels": "real_labels"}},
    "MultiHingeLoss-fake": {"target": "fake", "data_info": {"logits": "mh_fake"}},
}
