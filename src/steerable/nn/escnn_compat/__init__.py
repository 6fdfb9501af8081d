"""Reading escnn checkpoints (private machinery behind ``steerable.nn.load_escnn_state_dict``)."""
