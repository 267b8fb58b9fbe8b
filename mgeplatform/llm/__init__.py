"""The LLM gateway: one interface to every provider, every call recorded.

from mgeplatform.llm import gateway
async for event in gateway.stream_chat(request, context): ...
answer, record = gateway.structured(request, Contract, context)  # sync; a validated pydantic model
vectors = gateway.embed(texts, context)                    # sync
"""
