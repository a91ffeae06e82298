"""HTTP clients of the providers Agora calls. They know HTTP and each provider's API, not Flask."""
