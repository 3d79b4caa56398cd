"""What greeter emits: each declaration names its subject and the model of its payload, so that an
emit that breaks the model fails here rather than in a consumer, and the contract catalog can
show who produces what."""

from pydantic import BaseModel, Field

from kernel import event


class GreetedPayload(BaseModel):
    name: str = Field(description="Who was greeted.")
    greeting: str = Field(description="What they were told, e.g. 'Hello, Ada!'.")


Greeted = event(
    "greeter.greeted", GreetedPayload, description="Someone was greeted (POST /api/greeter/hello)."
)
