"""The password hasher: Argon2id with the first of OWASP's recommended parameter sets.

OWASP's Password Storage Cheat Sheet lists equally strong Argon2id settings, the first m=46 MiB,
t=1, p=1 (the others trade memory for passes, down to m=19 MiB, t=2); RFC 9106 also uses one pass
with more memory. Memory is what costs an attacker's GPUs, so this takes the largest of OWASP's
memory sizes. One lane keeps each sign-in on one core, so concurrent sign-ins do not fight over
threads. About 45 ms a hash on this two-core machine when idle: Django's PBKDF2 (1,000,000
iterations) took ~0.22 s idle and over 0.5 s when the machine was busy; Django's own Argon2
parameters (m=100 MiB, p=8) and m=64 MiB, t=2 both passed 300 ms under load (docs/PERFORMANCE.md).
The parameters are stored in each hash: a change here re-hashes each account at its next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OporaArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 47104  # KiB = 46 MiB
    parallelism = 1
