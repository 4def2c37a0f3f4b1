"""The one exception type for errors staff can cause.

Views turn it into a form error, commands into a message and exit code 1.
"""


class DomainError(Exception):
    """A rule of the regulation or of the back office refused the action.

    `message` is Japanese, for staff; `article` names the provision it rests on
    (例: "第3条"), when there is one.
    """

    def __init__(self, message: str, *, article: str = "", code: str = ""):
        self.message = message
        self.article = article
        self.code = code
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.article and self.article not in self.message:
            return f"{self.message}（{self.article}）"
        return self.message
