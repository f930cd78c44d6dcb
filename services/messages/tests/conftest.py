# Patch before anything imports socket or threading: nameko's containers and the
# test's RPC clients all run on eventlet (see ../shared/notes/stack.md).
import eventlet

eventlet.monkey_patch()
