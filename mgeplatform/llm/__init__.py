"""The LLM gateway: one interface to every provider, every call recorded.

    from mgeplatform.llm import gateway
    async for event in gateway.stream_chat(request, context): ...
    result = gateway.structured(request, schema, context)      # sync
    vectors = gateway.embed(texts, context)                    # sync
"""
