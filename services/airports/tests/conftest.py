# Patch before anything imports socket or threading: nameko's containers and the
# test's RPC clients all run on eventlet (unpatched, the container tests hang).
import eventlet

eventlet.monkey_patch()
