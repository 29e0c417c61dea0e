"""chatbox: a Raspberry Pi appliance for serverless, peer-to-peer chat on IPFS."""

__version__ = "0.1.0"
