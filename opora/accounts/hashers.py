"""The password hasher: Argon2id, OWASP's parameters with more memory.

OWASP's Password Storage Cheat Sheet asks for Argon2id with at least m=19 MiB, t=2, p=1; this uses
t=2, p=1 with 64 MiB (over three times the memory an attacker must pay per guess). One lane keeps
each sign-in on one core, so concurrent sign-ins on a two-core machine do not fight over threads.
About 0.1 s a hash on this machine, where Django's PBKDF2 (1,000,000 iterations) took ~0.22 s idle
and over 2 s on a busy machine; Django's own Argon2 parameters (m=100 MiB, p=8) were the slowest
under load (docs/PERFORMANCE.md). The parameters are stored in each hash: a change here re-hashes
each account at its next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OporaArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 65536  # KiB
    parallelism = 1
