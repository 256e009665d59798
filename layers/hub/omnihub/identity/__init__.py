"""One ID: identities from every channel resolve to one member, safely and privately."""
