"""Sampling and LoRA training on Tinker (thinkingmachines.ai), through its official SDK.

sdk.py        settings, the ServiceClient, error mapping, downloads (the only SDK import)
datums.py     local examples -> Tinker Datums; the losses (cross_entropy, custom, importance_sampling)
objectives.py the four objectives' steps and evaluations on a TrainingClient
loop.py       tinker_train: the local loop's schedule, metrics and checkpoints; the final adapter pulled
remote.py     tinker_generate (teacher answers + top-k), tinker_checkpoints, tinker_pull

It has been tested only against character_dev.tinker_standin, a local stand-in of the SDK's
client interface: the real service could not be reached from the machines it was built on.
"""
