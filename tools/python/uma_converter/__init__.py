"""The uma-convert converter (fairchem UMA checkpoint -> `.uma`, docs/uma-file-format.md), one module per concern.

tools/python/uma_convert.py is the command-line entry and re-exports the names other tools import. Dependencies
point one way, top to bottom:

  cli                    argument parsing and the convert / random / info commands
  fairchem_verification  loads a random .pt back through fairchem's public API and predicts with it
  random_model           random UMA-S-shaped fairchem checkpoints of each generation, and their recipes
  uma_builder            checkpoint state + configs -> metadata + tensors -> a written .uma
  metadata               the backbone and per-task metadata blocks of a .uma
  model_recognition      which generation a checkpoint is, and refusal of what the engine cannot run
  checkpoint_reading     loading a fairchem checkpoint: EMA weights, task normalizers, element references
  uma_file               the .uma bytes: storage dtype, safetensors layout, tensor_data_sha256, header reading
  provenance             converter version, fairchem/torch versions, reproducible creation time
  generations            the model generations (model_id) this converter knows and their dataset lists
  console                log and die: how the converter talks to the user
"""
