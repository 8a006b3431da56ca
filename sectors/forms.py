from django import forms


class ActingOrganisationForm(forms.Form):
    """The header's organisation switcher. Membership is checked by ``acting.acting_set``."""

    organisation = forms.IntegerField(min_value=1)
    next = forms.CharField(required=False, max_length=2000)
