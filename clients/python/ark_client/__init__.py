"""ark_client: the Ark's HTTP API from Python, standard library only (pandas optional).
See clients/python/README.md."""

from .client import ApiError, Client
from .proof import ProofError, verify_proof

__all__ = ["ApiError", "Client", "ProofError", "verify_proof"]
