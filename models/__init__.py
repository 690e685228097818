"""The beat model: GPT-2 (training in PyTorch, imported lazily), GGUF export,
the llama.cpp runner, and the shipped weights. The runtime never imports torch."""
