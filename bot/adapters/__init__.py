"""Platform adapters. Each converts platform events to `Message`s and `Reply`s to the platform's
format; nothing here decides what to answer. Don't import platform SDKs at package level.
"""
