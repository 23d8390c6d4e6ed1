"""What a stack costs: list prices applied to the resources it synthesizes (`make cost`)."""
