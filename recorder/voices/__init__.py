"""Speaker embeddings and voices told apart: weights, encoder, clustering, recording spans."""
