"""Forms of the staff board."""

from django import forms

from orders.models import Status


class MoveForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    driver = forms.IntegerField(required=False)  # out for delivery: who takes it


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, strip=True)


class TextForm(forms.Form):
    text = forms.CharField(max_length=1000, strip=True, widget=forms.Textarea(attrs={"rows": 2}))
