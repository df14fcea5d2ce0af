"""The words of regulation 002's «АНКЕТА ДЛЯ РОДИТЕЛЕЙ» around its items (the items themselves are
`models.CRITERIA` and `models.MoreOf`). English message ids; the `ru` catalogue holds the
regulation's own words, the `kk` catalogue their translation."""

from django.utils.translation import pgettext_lazy

TITLE = pgettext_lazy("questionnaire 002", "QUESTIONNAIRE FOR PARENTS")
SCALE_PROMPT = pgettext_lazy(
    "questionnaire 002", "Please rate the remote consultation on a 5-point scale:"
)
FOOTNOTE = pgettext_lazy("questionnaire 002", "*r/c - remote consultation")
MORE_OF_QUESTION = pgettext_lazy("questionnaire 002", "Should the remote consultation include:")
IMPRESSIONS = pgettext_lazy("questionnaire 002", "Your impression of the remote consultation.")
WISHES = pgettext_lazy("questionnaire 002", "Your wishes for the specialist's remote consultation.")
THANKS = pgettext_lazy("questionnaire 002", "Thank you for your cooperation!")
