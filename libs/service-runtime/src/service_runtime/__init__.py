"""Runtime pieces shared by every service: storage injection, timed RPC, health."""
